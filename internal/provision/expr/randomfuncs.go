package expr

import (
	"encoding/hex"
	"fmt"
	"io"
)

func evalGuid(ev *evaluator, _ *call) (Value, error) {
	var b [16]byte
	if _, err := io.ReadFull(ev.env.Rand, b[:]); err != nil {
		return Value{}, fmt.Errorf("reading randomness: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return StringValue(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]), nil
}

func evalRandomString(ev *evaluator, c *call) (Value, error) {
	a := ev.readArgs(c)
	var n [5]int64
	for i := range n {
		v, null := a.integer(i)
		if a.err != nil {
			return Value{}, a.err
		}
		if null {
			return Value{}, fmt.Errorf("%s is null", argName(c, i))
		}
		n[i] = v
	}
	avoid, _ := a.text(5)
	if a.err != nil {
		return Value{}, a.err
	}
	if msg := randomStringProblem(n, avoid); msg != "" {
		return Value{}, fmt.Errorf("%s", msg)
	}
	s, err := randomString(ev.env.Rand, n, avoid)
	if err != nil {
		return Value{}, err
	}
	return StringValue(s), nil
}

func checkRandomString(c *call) *Error {
	var n [5]int64
	for i := range n {
		v, ok := constInt(c.args[i])
		if !ok {
			return nil
		}
		n[i] = v
	}
	avoid := ""
	if len(c.args) > 5 {
		s, ok := c.args[5].(*strLit)
		if !ok {
			if _, empty := c.args[5].(*missing); !empty {
				return nil
			}
		} else {
			avoid = s.s
		}
	}
	if msg := randomStringProblem(n, avoid); msg != "" {
		return errorf(c.at, "RandomString: %s", msg)
	}
	return nil
}

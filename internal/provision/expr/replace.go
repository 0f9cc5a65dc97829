package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// replaceMode is which of Entra's five Replace behaviours the given
// arguments select.
type replaceMode int

const (
	replaceNone          replaceMode = iota
	replaceOldValue                  // oldValue, replacementValue
	replaceTemplate                  // oldValue, template
	replaceRegex                     // regexPattern, replacementValue
	replaceGroup                     // regexPattern, regexGroupName, replacementValue
	replaceFromAttribute             // regexPattern, regexGroupName, replacementAttributeName
)

// modeOf determines the Replace mode from which arguments are given, which
// is a matter of syntax: an attribute that happens to be null at run time
// does not switch modes.
func modeOf(c *call) replaceMode {
	has := func(i int) bool {
		if i >= len(c.args) {
			return false
		}
		_, empty := c.args[i].(*missing)
		return !empty
	}
	old, pattern, group, value, attr, template := has(1), has(2), has(3), has(4), has(5), has(6)
	switch {
	case old && !pattern && !group && !attr && value && !template:
		return replaceOldValue
	case old && !pattern && !group && !attr && !value && template:
		return replaceTemplate
	case !old && pattern && !group && value && !attr && !template:
		return replaceRegex
	case !old && pattern && group && value && !attr && !template:
		return replaceGroup
	case !old && pattern && group && !value && attr && !template:
		return replaceFromAttribute
	}
	return replaceNone
}

func checkReplace(c *call) *Error {
	if modeOf(c) == replaceNone {
		return errorf(c.at, "Replace needs one of these argument combinations, the others left empty: "+
			"oldValue and replacementValue; oldValue and template; regexPattern and replacementValue; "+
			"regexPattern, regexGroupName and replacementValue; or regexPattern, regexGroupName and replacementAttributeName")
	}
	return nil
}

func evalReplace(ev *evaluator, c *call) (Value, error) {
	mode := modeOf(c)
	if mode == replaceNone {
		return Value{}, checkReplace(c)
	}
	a := ev.readArgs(c)
	src, srcNull := a.text(0)
	if a.err != nil {
		return Value{}, a.err
	}
	str := func(i int) (string, error) {
		s, _ := a.text(i)
		return s, a.err
	}
	switch mode {
	case replaceOldValue, replaceTemplate:
		if srcNull {
			return Value{}, nil
		}
		old, err := str(1)
		if err != nil {
			return Value{}, err
		}
		if old == "" {
			return Value{}, fmt.Errorf("%s must not be empty", argName(c, 1))
		}
		var in, repl string
		if mode == replaceOldValue {
			in = src
			repl, err = str(4)
		} else {
			// The template receives the source in place of oldValue.
			repl = src
			in, err = str(6)
		}
		if err != nil {
			return Value{}, err
		}
		if len(in)+strings.Count(in, old)*(len(repl)-len(old)) > MaxValueSize {
			return Value{}, errTooLong()
		}
		return StringValue(strings.ReplaceAll(in, old, repl)), nil
	}

	re := c.re
	if re == nil {
		pattern, err := str(2)
		if err != nil {
			return Value{}, err
		}
		if re, err = compileRegex(pattern); err != nil {
			return Value{}, fmt.Errorf("%s: %w", argName(c, 2), err)
		}
	}
	switch mode {
	case replaceRegex:
		if srcNull {
			return Value{}, nil
		}
		repl, err := str(4)
		if err != nil {
			return Value{}, err
		}
		out, ok := regexReplace(re, src, repl)
		if !ok {
			return Value{}, errTooLong()
		}
		return StringValue(out), nil
	case replaceGroup:
		if srcNull {
			return Value{}, nil
		}
		group, err := str(3)
		if err != nil {
			return Value{}, err
		}
		g := re.SubexpIndex(group)
		if g < 0 {
			return Value{}, fmt.Errorf("%s: the regular expression has no group named %q", argName(c, 3), group)
		}
		repl, err := str(4)
		if err != nil {
			return Value{}, err
		}
		out, ok := replaceGroupSpans(re, g, src, repl)
		if !ok {
			return Value{}, errTooLong()
		}
		return StringValue(out), nil
	}
	// replaceFromAttribute: the source wins when it has a value.
	if !srcNull && src != "" {
		return StringValue(src), nil
	}
	group, err := str(3)
	if err != nil {
		return Value{}, err
	}
	g := re.SubexpIndex(group)
	if g < 0 {
		return Value{}, fmt.Errorf("%s: the regular expression has no group named %q", argName(c, 3), group)
	}
	other, null := a.text(5)
	if a.err != nil || null {
		return Value{}, a.err
	}
	m := re.FindStringSubmatchIndex(other)
	if m == nil || m[2*g] < 0 {
		return Value{}, nil
	}
	return StringValue(other[m[2*g]:m[2*g+1]]), nil
}

// compileRegex compiles a pattern, explaining the difference from .NET when
// it does not compile: Go's RE2 syntax has no lookaround or backreferences.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("the regular expression does not compile (Ferry uses RE2 syntax, without lookaround or backreferences): %w", err)
	}
	return re, nil
}

// replaceGroupSpans replaces, in every match of re, the text the group g
// matched with repl, leaving the rest of the match alone. ok is false when
// the result would be longer than MaxValueSize.
func replaceGroupSpans(re *regexp.Regexp, g int, src, repl string) (string, bool) {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
		s, e := m[2*g], m[2*g+1]
		if s < 0 || s < last {
			continue
		}
		b.WriteString(src[last:s])
		b.WriteString(repl)
		last = e
		if b.Len() > MaxValueSize {
			return "", false
		}
	}
	b.WriteString(src[last:])
	return b.String(), true
}

// regexReplace is .NET's Regex.Replace: every match is replaced with repl,
// in which $1 and ${name} insert groups, $$ a dollar sign, $& the match,
// $` and $' the text before and after it, $+ the last group and $_ the
// whole input. Go's Expand reads "$name" differently, hence this. ok is
// false when the result would be longer than MaxValueSize.
func regexReplace(re *regexp.Regexp, src, repl string) (string, bool) {
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(src, -1) {
		b.WriteString(src[last:m[0]])
		expandDotNet(&b, re, src, m, repl)
		last = m[1]
		if b.Len() > MaxValueSize {
			return "", false
		}
	}
	b.WriteString(src[last:])
	return b.String(), true
}

func expandDotNet(b *strings.Builder, re *regexp.Regexp, src string, m []int, repl string) {
	group := func(g int) {
		if g < len(m)/2 && m[2*g] >= 0 {
			b.WriteString(src[m[2*g]:m[2*g+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		if repl[i] != '$' || i+1 == len(repl) {
			b.WriteByte(repl[i])
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '&':
			group(0)
			i++
		case next == '`':
			b.WriteString(src[:m[0]])
			i++
		case next == '\'':
			b.WriteString(src[m[1]:])
			i++
		case next == '_':
			b.WriteString(src)
			i++
		case next == '+':
			group(len(m)/2 - 1)
			i++
		case next == '{':
			end := strings.IndexByte(repl[i+2:], '}')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := repl[i+2 : i+2+end]
			g := re.SubexpIndex(name)
			if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(m)/2 {
				g = n
			}
			if g < 0 {
				b.WriteString(repl[i : i+3+end])
			} else {
				group(g)
			}
			i += 2 + end
		case '0' <= next && next <= '9':
			// The longest run of digits that names a group, as .NET reads it.
			j := i + 1
			for j < len(repl) && '0' <= repl[j] && repl[j] <= '9' {
				j++
			}
			for ; j > i+1; j-- {
				if n, err := strconv.Atoi(repl[i+1 : j]); err == nil && n < len(m)/2 {
					group(n)
					break
				}
			}
			if j == i+1 {
				b.WriteByte('$')
				continue
			}
			i = j - 1
		default:
			b.WriteByte('$')
		}
	}
}

package adminclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ferryid/ferry/internal/csvimport"
)

// Import imports a CSV file of users into the directory. Without progress
// it returns the server's Result and its bytes. With progress, the server
// streams progress lines, and progress is called with each (users
// written, users to write) before the Result comes.
func (c *Client) Import(ctx context.Context, req csvimport.Request, progress func(done, total int)) (*csvimport.Result, []byte, error) {
	const path = "/import"
	if progress == nil {
		return getOne[csvimport.Result](ctx, c, "POST", path, nil, req)
	}
	resp, err := c.do(ctx, "POST", path, nil, req, "Accept", "application/x-ndjson")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		return nil, nil, c.answerError("POST", path, resp, raw)
	}
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64<<10), maxAnswer)
	for lines.Scan() {
		var line struct {
			Done   int             `json:"done"`
			Total  int             `json:"total"`
			Result json.RawMessage `json:"result"`
			Error  string          `json:"error"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			return nil, nil, fmt.Errorf("POST %s: a progress line is not what this ferry understands: %w", path, err)
		}
		if line.Error != "" {
			return nil, nil, &Error{Status: resp.StatusCode, Detail: line.Error}
		}
		if line.Result != nil {
			var res csvimport.Result
			if err := json.Unmarshal(line.Result, &res); err != nil {
				return nil, nil, fmt.Errorf("POST %s: the result is not what this ferry understands: %w", path, err)
			}
			return &res, line.Result, nil
		}
		progress(line.Done, line.Total)
	}
	if err := lines.Err(); err != nil {
		return nil, nil, fmt.Errorf("POST %s: reading the progress: %w", path, err)
	}
	return nil, nil, errors.New("the server ended the import's answer without its result: see its log")
}

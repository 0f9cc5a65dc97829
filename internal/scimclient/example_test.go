package scimclient_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/ferryid/ferry/internal/scimclient"
)

// Test Connection against a target that accepts one token: it passes with
// that token and reports Unauthorized with another.
func ExampleClient_TestConnection() {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Header.Get("Authorization") != "Bearer good-token" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"invalid token"}`)
			return
		}
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":20}`)
	}))
	defer target.Close()

	for _, token := range []string{"good-token", "old-token"} {
		c, err := scimclient.New(scimclient.Config{BaseURL: target.URL + "/scim/v2/", Token: token})
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := c.TestConnection(context.Background()); err != nil {
			fmt.Println("failed:", scimclient.CodeOf(err))
		} else {
			fmt.Println("passed")
		}
	}
	// Output:
	// passed
	// failed: Unauthorized
}

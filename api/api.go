// Package api holds the admin API's OpenAPI 3.1 description
// (openapi.json), embedded so that the server can serve it at
// /api/v1/openapi.json; a package of its own because go:embed cannot reach
// a parent directory.
package api

import _ "embed"

//go:embed openapi.json
var openAPI string

// OpenAPI returns the admin API's OpenAPI document (JSON).
func OpenAPI() string { return openAPI }

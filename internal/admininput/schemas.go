package admininput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ferryid/ferry/internal/extensions"
	"github.com/ferryid/ferry/internal/scim/schema"
)

// SchemaFile reads the extension schema ferry schemas add declares: FILE,
// a JSON object in RFC 7643 §7 form (as /Schemas serves one), checked as
// the server will check it, and --resource-type, User or Group.
func SchemaFile(path, resourceType string) (extensions.NewSchema, error) {
	switch {
	case strings.EqualFold(resourceType, "User"):
		resourceType = "User"
	case strings.EqualFold(resourceType, "Group"):
		resourceType = "Group"
	default:
		return extensions.NewSchema{}, fmt.Errorf("--resource-type %q: it is User or Group", resourceType)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return extensions.NewSchema{}, fmt.Errorf("read the schema file: %w", err)
	}
	data = bytes.TrimSpace(data)
	if !json.Valid(data) || len(data) == 0 || data[0] != '{' {
		return extensions.NewSchema{}, fmt.Errorf("%s is not a JSON object: the file holds one schema in RFC 7643 §7 form, {\"id\": \"urn:…\", \"attributes\": […]}", path)
	}
	if _, err := schema.ParseExtension(data); err != nil {
		return extensions.NewSchema{}, fmt.Errorf("%s: %w", path, err)
	}
	return extensions.NewSchema{ResourceType: resourceType, Schema: data}, nil
}

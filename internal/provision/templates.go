package provision

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Templates are data files: an application template is a JSON file in
// templates/ with a description and a Config without tenantUrl. Adding an
// application is adding a file.
//
//go:embed templates/*.json
var templateFS embed.FS

// template is one templates/*.json file.
type template struct {
	Description string `json:"description"`
	Config      Config `json:"config"`
}

// Templates returns the names of the application templates.
func Templates() []string {
	entries, _ := templateFS.ReadDir("templates")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	slices.Sort(names)
	return names
}

// TemplateDescription says what the template called name provisions, in
// words, for a gallery of templates; "" for no such template.
func TemplateDescription(name string) string {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return ""
	}
	b, err := templateFS.ReadFile(path.Join("templates", name+".json"))
	if err != nil {
		return ""
	}
	var t template
	if json.Unmarshal(b, &t) != nil {
		return ""
	}
	return t.Description
}

// loadTemplate returns the configuration of the template called name.
func loadTemplate(name string) (Config, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return Config{}, invalid("template %q does not exist; templates: %s", name, strings.Join(Templates(), ", "))
	}
	b, err := templateFS.ReadFile(path.Join("templates", name+".json"))
	if err != nil {
		return Config{}, invalid("template %q does not exist; templates: %s", name, strings.Join(Templates(), ", "))
	}
	var t template
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&t); err != nil {
		return Config{}, fmt.Errorf("template %s: %w", name, err)
	}
	return t.Config, nil
}

package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	cfgpkg "github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// asset is one file of frontend.dir bundled with the authorize function:
// name is its slash-separated path relative to config.yaml.
type asset struct {
	name string
	body []byte
}

// frontendAssets reads the files of the configuration's frontend.dir that
// the authorize function serves, through the loader's own reader
// (config.FrontendFiles: static/ and the configured theme, regular files
// inside the directory, within its bounds), sorted by name. The directory
// must be relative to the configuration file and inside its directory: it
// is bundled at that same path, so the function's loader finds it there.
func frontendAssets(configPath string, config []byte) ([]asset, error) {
	var c struct {
		Frontend struct {
			Dir   string `yaml:"dir"`
			Theme string `yaml:"theme"`
		} `yaml:"frontend"`
	}
	if err := yaml.Unmarshal(config, &c); err != nil {
		return nil, fmt.Errorf("-config: %w", err)
	}
	dir, theme := c.Frontend.Dir, c.Frontend.Theme
	if dir == "" {
		return nil, nil
	}
	if !filepath.IsLocal(dir) {
		return nil, fmt.Errorf("frontend.dir %q: to bundle it, give a path relative to the configuration file, inside its directory", dir)
	}
	files, err := cfgpkg.FrontendFiles(filepath.Join(filepath.Dir(configPath), dir), theme)
	if err != nil {
		return nil, fmt.Errorf("frontend.dir %q: %w", dir, err)
	}
	if theme == "" {
		theme = oidc.ThemeLight
	}
	out := make([]asset, 0, len(files))
	for url, f := range files {
		// Back from the URL to the file's place in the directory.
		rel := strings.TrimPrefix(url, "/")
		if after, ok := strings.CutPrefix(url, "/theme/"); ok {
			rel = path.Join("themes", theme, after)
		}
		out = append(out, asset{name: path.Join(filepath.ToSlash(path.Clean(dir)), rel), body: f.Body})
	}
	slices.SortFunc(out, func(a, b asset) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// assetsOf is the assets of function name: authorize's, no other's.
func assetsOf(name string, assets []asset) []asset {
	if name != oidc.FunctionAuthorize {
		return nil
	}
	return assets
}

// writeAssets writes assets below dir.
func writeAssets(dir string, assets []asset) error {
	for _, a := range assets {
		p := filepath.Join(dir, filepath.FromSlash(a.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, a.body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

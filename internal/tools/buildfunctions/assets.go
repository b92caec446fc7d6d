package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// asset is one file of frontend.dir bundled with the authorize function:
// name is its slash-separated path relative to config.yaml.
type asset struct {
	name string
	body []byte
}

// frontendAssets reads the files of the configuration's frontend.dir that
// the authorize function serves (static/ and themes/; not Dex's templates),
// sorted by name. The directory must be relative to the configuration
// file and inside its directory: it is bundled at that same path.
func frontendAssets(configPath string, config []byte) ([]asset, error) {
	var c struct {
		Frontend struct {
			Dir string `yaml:"dir"`
		} `yaml:"frontend"`
	}
	if err := yaml.Unmarshal(config, &c); err != nil {
		return nil, fmt.Errorf("-config: %w", err)
	}
	dir := c.Frontend.Dir
	if dir == "" {
		return nil, nil
	}
	if !filepath.IsLocal(dir) {
		return nil, fmt.Errorf("frontend.dir %q: to bundle it, give a path relative to the configuration file, inside its directory", dir)
	}
	root := filepath.Join(filepath.Dir(configPath), dir)
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("frontend.dir %q: not a directory (%s)", dir, root)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("frontend.dir %q: %w", dir, err)
	}
	var out []asset
	for _, sub := range []string{"static", "themes"} {
		base := filepath.Join(root, sub)
		if _, err := os.Stat(base); os.IsNotExist(err) {
			continue
		}
		err := filepath.WalkDir(base, func(name string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(e.Name(), ".") && name != base {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.IsDir() {
				return nil
			}
			// A symbolic link is bundled as its target's content, so it
			// must stay inside the directory, as the loader requires at
			// start: a link to a key or a config elsewhere would otherwise
			// be published at /static/….
			real, err := filepath.EvalSymlinks(name)
			if err != nil {
				return fmt.Errorf("frontend.dir: %s: %w", name, err)
			}
			if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) {
				return fmt.Errorf("frontend.dir: %s: a link to a file outside the directory is not bundled", name)
			}
			st, err := os.Stat(real)
			if err != nil || !st.Mode().IsRegular() {
				return fmt.Errorf("frontend.dir: %s: not a regular file", name)
			}
			body, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Dir(configPath), name)
			out = append(out, asset{name: path.Clean(filepath.ToSlash(rel)), body: body})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
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

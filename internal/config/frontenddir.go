package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Bounds of frontend.dir's files, all read into memory at start.
const (
	MaxFrontendFiles = 300
	MaxFrontendBytes = 5 << 20
)

// frontendDirOf is frontend.dir resolved: relative to the directory of the
// configuration file, or absolute.
func (d *decoder) frontendDirOf(dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(filepath.Dir(d.file), dir)
}

// readFrontendDir reads the files that the authorize function serves
// from frontend.dir: static/… as /static/… and themes/<theme>/… as
// /theme/…. It reports a problem at frontend.dir and warns when the
// directory holds Dex's HTML templates, which are not used.
func (v validator) readFrontendDir(f *Frontend) {
	const p = "frontend.dir"
	files, err := FrontendFiles(v.d.frontendDirOf(f.Dir), f.Theme)
	if err != nil {
		v.fail(p, "%q: %v", f.Dir, err)
		return
	}
	if html, _ := filepath.Glob(filepath.Join(v.d.frontendDirOf(f.Dir), "templates", "*.html")); len(html) > 0 {
		v.d.warn(p, "templates/*.html: Dex's HTML templates are not used; the built-in pages are")
	}
	f.Files = files
}

// FrontendFiles reads the files of a frontend.dir at dir that the authorize
// function serves, by URL path: static/… as /static/… and
// themes/<theme>/… as /theme/… (theme "" is light). Only regular files
// inside the directory (symbolic links too, when they stay inside), within
// MaxFrontendFiles and MaxFrontendBytes, with names that can be served.
// The loader and the Lambda build (which bundles them) both read them here.
func FrontendFiles(dir, theme string) (map[string]oidc.StaticFile, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(root); err == nil && !st.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		return nil, unwrapPathError(err)
	}
	r := dirReader{root: root, files: map[string]oidc.StaticFile{}}
	if theme == "" {
		theme = oidc.ThemeLight
	}
	for _, sub := range []struct{ dir, url string }{{"static", "/static"}, {filepath.Join("themes", theme), "/theme"}} {
		if err := r.walk(sub.dir, sub.url); err != nil {
			return nil, err
		}
	}
	return r.files, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dirReader reads the regular files below root within the bounds.
type dirReader struct {
	root  string
	files map[string]oidc.StaticFile
	size  int
}

// walk reads root/sub into files under the URL prefix url; a missing sub
// has no files.
func (r *dirReader) walk(sub, url string) error {
	base := filepath.Join(r.root, sub)
	if _, err := os.Lstat(base); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(base, func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, name)
		if strings.HasPrefix(e.Name(), ".") && rel != "." {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil // hidden files are not served
		}
		if e.IsDir() {
			return nil
		}
		return r.add(filepath.Join(sub, rel), url+"/"+filepath.ToSlash(rel))
	})
}

// add reads the file at root/rel, served at url.
func (r *dirReader) add(rel, url string) error {
	full := filepath.Join(r.root, rel)
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return fmt.Errorf("%s: %v", filepath.ToSlash(rel), unwrapPathError(err))
	}
	if real != full && !strings.HasPrefix(real, r.root+string(filepath.Separator)) {
		return fmt.Errorf("%s: a symbolic link out of the directory", filepath.ToSlash(rel))
	}
	st, err := os.Stat(real)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %v", filepath.ToSlash(rel), unwrapPathError(err))
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file", filepath.ToSlash(rel))
	case strings.ContainsAny(url, "\\\x00?#%") || path.Clean(url) != url:
		return fmt.Errorf("%s: a name that cannot be served (no \\, ?, #, %%)", filepath.ToSlash(rel))
	case len(r.files) >= MaxFrontendFiles:
		return fmt.Errorf("more than %d files under static/ and the theme's directory", MaxFrontendFiles)
	case r.size+int(st.Size()) > MaxFrontendBytes:
		return fmt.Errorf("more than %d MiB under static/ and the theme's directory", MaxFrontendBytes>>20)
	}
	body, err := os.ReadFile(real)
	if err != nil {
		return fmt.Errorf("%s: %v", filepath.ToSlash(rel), unwrapPathError(err))
	}
	r.size += len(body)
	ct, _ := oidc.StaticContentType(url)
	r.files[url] = oidc.StaticFile{ContentType: ct, Body: body}
	return nil
}

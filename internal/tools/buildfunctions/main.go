// Command buildfunctions builds the Lambda functions for the provided.al2023
// runtime: each functions/<name> (one per oidc.Functions entry) is
// cross-compiled with CGO_ENABLED=0 for linux (arm64 by default) with
//
//	-tags lambda.norpc -trimpath -ldflags "-s -w"
//
// into a file named bootstrap, and the configuration file is bundled next
// to it as config.yaml (the templates set OIDC_CONFIG=/var/task/config.yaml;
// Lambda unpacks the zip into /var/task). It needs nothing but Go: the zips
// are written with archive/zip, bootstrap with mode 0755, deterministically
// (fixed timestamps), so an unchanged build gives a byte-identical zip.
//
// When the configuration sets frontend.dir, the authorize function's
// artifact also holds that directory's static/ and themes/ files, at the
// same path relative to config.yaml as beside the configuration file, so
// that the path resolves unchanged (nothing is rewritten). frontend.dir
// must then be a relative path inside the configuration's directory.
//
// A configuration holding the public demo credentials of examples/ is
// refused (reason on stdout, exit 1) unless -allow-demo-config is given
// (make: ALLOW_DEMO_CONFIG=1); see checkDemo.
//
// All functions (make build):
//
//	go run ./internal/tools/buildfunctions -config examples/config.dev.yaml -out build
//
// writes build/<name>/bootstrap, build/<name>/config.yaml and build/<name>.zip
// and prints each size.
//
// One function into a given directory, without a zip (SAM's BuildMethod:
// makefile, whose build-<LogicalId> targets must fill $(ARTIFACTS_DIR)):
//
//	go run ./internal/tools/buildfunctions -config examples/config.dev.yaml -function token -dir "$ARTIFACTS_DIR"
package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

const (
	modulePath = "github.com/serverless-oidc/op"
	// bundledConfig is the name of the configuration next to bootstrap; the
	// templates set OIDC_CONFIG to /var/task/ + bundledConfig.
	bundledConfig = "config.yaml"
	devConfig     = "examples/config.dev.yaml"
)

// zipTime is the modification time of every zip entry: a fixed time keeps
// the zips reproducible (CloudFormation and CDK compare asset hashes).
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	var o options
	flag.StringVar(&o.config, "config", devConfig, "configuration file bundled as "+bundledConfig)
	flag.StringVar(&o.out, "out", "build", "output directory for all functions")
	flag.StringVar(&o.function, "function", "", "build only this function (one of "+strings.Join(oidc.Functions, ", ")+")")
	flag.StringVar(&o.dir, "dir", "", "with -function: write bootstrap and "+bundledConfig+" into this directory, no zip (SAM's $(ARTIFACTS_DIR))")
	flag.StringVar(&o.arch, "arch", "arm64", "GOARCH of the Lambda functions: arm64 or amd64")
	flag.BoolVar(&o.xray, "xray", false, "link the AWS X-Ray SDK (build tag xray): with Tracing=Active, AWS SDK calls become X-Ray subsegments (docs/lambda.md, Tracing)")
	flag.BoolVar(&o.allowDemo, "allow-demo-config", false, "build even though the configuration holds the public demo credentials (throwaway tests only)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "buildfunctions: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "buildfunctions:", err)
		os.Exit(1)
	}
}

type options struct {
	config, out, function, dir, arch string
	// allowDemo builds with the public demo credentials (checkDemo).
	allowDemo bool
	// xray adds the build tag xray (internal/backend/awssdk/tracing_xray.go).
	xray bool
}

// target is what every go build of a run shares.
type target struct {
	arch string
	tags string // -tags
}

// built is one function's output.
type built struct {
	name      string
	bootstrap string
	zip       string // "" in -dir mode
}

func run(o options, stdout, stderr io.Writer) error {
	if o.arch != "arm64" && o.arch != "amd64" {
		return fmt.Errorf("-arch %q: Lambda runs arm64 or amd64", o.arch)
	}
	if o.dir != "" && o.function == "" {
		return errors.New("-dir needs -function")
	}
	if o.function != "" && !slices.Contains(oidc.Functions, o.function) {
		return fmt.Errorf("-function %q: want one of %s", o.function, strings.Join(oidc.Functions, ", "))
	}
	config, err := os.ReadFile(o.config)
	if err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	if err := checkDemo(o.config, config, o.allowDemo, stdout, stderr); err != nil {
		return err
	}

	names := oidc.Functions
	if o.function != "" {
		names = []string{o.function}
	}
	assets, err := frontendAssets(o.config, config)
	if err != nil {
		return err
	}
	t := target{arch: o.arch, tags: "lambda.norpc"}
	if o.xray {
		t.tags += ",xray"
	}
	var out []built
	if o.dir != "" {
		b, err := buildInto(o.function, o.dir, t, config, assets)
		if err != nil {
			return err
		}
		out = append(out, b)
	} else {
		if out, err = buildAll(names, o.out, t, config, assets); err != nil {
			return err
		}
	}
	return report(stdout, out, o.arch)
}

// buildInto builds one function into dir: dir/bootstrap and dir/config.yaml
// (and, for authorize, the frontend assets).
func buildInto(name, dir string, t target, config []byte, assets []asset) (built, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return built{}, err
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := goBuild(t, bootstrap, name); err != nil {
		return built{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, bundledConfig), config, 0o644); err != nil {
		return built{}, err
	}
	if err := writeAssets(dir, assetsOf(name, assets)); err != nil {
		return built{}, err
	}
	return built{name: name, bootstrap: bootstrap}, nil
}

// buildAll builds names (one go build per set of build tags; the shared
// packages compile once), then lays out out/<name>/ and zips each to
// out/<name>.zip.
func buildAll(names []string, out string, t target, config []byte, assets []asset) ([]built, error) {
	bin := filepath.Join(out, ".bin")
	if err := os.RemoveAll(bin); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	if err := goBuild(t, bin+string(filepath.Separator), names...); err != nil {
		return nil, err
	}
	var res []built
	for _, name := range names {
		dir := filepath.Join(out, name)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		bootstrap := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(bin, name), bootstrap); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, bundledConfig), config, 0o644); err != nil {
			return nil, err
		}
		if err := writeAssets(dir, assetsOf(name, assets)); err != nil {
			return nil, err
		}
		z := filepath.Join(out, name+".zip")
		if err := writeZip(z, bootstrap, config, assetsOf(name, assets)...); err != nil {
			return nil, fmt.Errorf("%s: %w", z, err)
		}
		res = append(res, built{name: name, bootstrap: bootstrap, zip: z})
	}
	return res, nil
}

// goBuild cross-compiles the named functions to output (a file for one
// function, a directory ending in a separator for several). Each links only
// what its main imports: no build tags choose backends (the tag xray adds
// the X-Ray SDK's subsegments, not a backend).
func goBuild(t target, output string, names ...string) error {
	args := []string{"build", "-tags", t.tags, "-trimpath", "-ldflags", "-s -w", "-o", output}
	for _, n := range names {
		args = append(args, modulePath+"/functions/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+t.arch, "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// writeZip writes the deployment package: bootstrap (mode 0755, which
// Lambda needs to execute it), the configuration (0644) and assets (0644,
// in order).
func writeZip(path, bootstrap string, config []byte, assets ...asset) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	bin, err := os.Open(bootstrap)
	if err != nil {
		return err
	}
	defer bin.Close()
	if err := addFile(zw, "bootstrap", 0o755, bin); err != nil {
		return err
	}
	if err := addFile(zw, bundledConfig, 0o644, strings.NewReader(string(config))); err != nil {
		return err
	}
	for _, a := range assets {
		if err := addFile(zw, a.name, 0o644, bytes.NewReader(a.body)); err != nil {
			return err
		}
	}
	return zw.Close()
}

func addFile(zw *zip.Writer, name string, mode os.FileMode, r io.Reader) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

// report prints each function's sizes.
func report(w io.Writer, res []built, arch string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "function\tbootstrap (linux/%s)\tzip\t\n", arch)
	for _, b := range res {
		bs, err := os.Stat(b.bootstrap)
		if err != nil {
			return err
		}
		zs := "-"
		if b.zip != "" {
			st, err := os.Stat(b.zip)
			if err != nil {
				return err
			}
			zs = size(st.Size())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", b.name, size(bs.Size()), zs)
	}
	return tw.Flush()
}

func size(n int64) string {
	return fmt.Sprintf("%.1f MiB (%d B)", float64(n)/(1<<20), n)
}

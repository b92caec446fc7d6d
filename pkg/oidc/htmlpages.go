package oidc

import (
	"errors"
	"html/template"
	"io"
)

// Pages renders the HTML pages: login, consent, error, device, logout, the
// form_post and out-of-band responses. Only the authorization endpoint
// serves pages, so only AuthorizeBackends has Pages: the authorize
// function's main passes HTMLPages(), and the other functions link no
// template engine. That matters for their size: text/template looks
// methods up by name through reflection, which makes the linker keep every
// exported method of every type in the binary (all of an AWS SDK client's
// operations, for one), about 4 MiB of each arm64 bootstrap.
type Pages interface {
	execute(w io.Writer, name string, l layout) error
}

// HTMLPages returns the built-in pages (templates/*.html inside
// templates/layout.html), parsed now: a template that does not parse
// panics here, at start.
func HTMLPages() Pages {
	p := htmlPages{}
	for _, name := range []string{"login", "consent", "error", "oob", "formpost", "logout", "device", "devicedone"} {
		p[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return p
}

type htmlPages map[string]*template.Template

func (p htmlPages) execute(w io.Writer, name string, l layout) error {
	t, ok := p[name]
	if !ok {
		return errors.New("oidc: no page " + name)
	}
	return t.ExecuteTemplate(w, "layout", l)
}

// errNoPages: an endpoint type without Pages was asked for a page (none of
// its routes shows one).
var errNoPages = errors.New("oidc: this endpoint type has no pages")

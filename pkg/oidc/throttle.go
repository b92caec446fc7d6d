package oidc

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// LoginThrottle limits password attempts per window. Three counters
// together stop targeted guessing from one address (PerAccountAndIP),
// spraying many accounts from one address (PerIP) and slow distributed
// guessing of one account (PerAccount), while a stranger cannot lock a user
// out without PerAccount failures.
//
// Each attempt RESERVES a slot on every counter before its password is
// checked, by one atomic increment per counter in LoginAttempts; when a
// returned count is over its limit the password is not checked at all.
// So parallel guesses, at one container or many, get at most the limit's
// number of checks. A wrong password keeps its slots; a right one and a
// refused attempt give theirs back, so the counts are the window's wrong
// passwords plus the checks in flight.
//
// The account counters count the account the typed name resolves to (its
// subject), however it was typed: e-mail, username, other letter cases;
// names of no account count under their Unicode case fold. The address is
// the peer's, or Settings.ClientAddressHeader's; an IPv6 address counts by
// its /64 prefix, which one subscriber usually holds entirely. Counters are
// keyed by hashes: the table holds no login names or addresses.
type LoginThrottle struct {
	Window          time.Duration // default 15m
	PerAccountAndIP int           // default 5
	PerIP           int           // default 50
	PerAccount      int           // default 100
}

func (t LoginThrottle) withDefaults() LoginThrottle {
	setDefault(&t.Window, 15*time.Minute)
	for _, f := range []struct {
		v *int
		d int
	}{{&t.PerAccountAndIP, 5}, {&t.PerIP, 50}, {&t.PerAccount, 100}} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	return t
}

// loginFormFailures is how many wrong passwords end a pending login: the
// form is dead and the user starts again from the client. Twice the
// default PerAccountAndIP, so that with the default limits the throttle
// answers a user first; the form's own limit caps what one form carries
// wherever the account and address limits do not (limits raised for a
// shared address, guesses from many addresses, or at many accounts).
const loginFormFailures = 10

// throttle applies LoginThrottle at the login form and to the password
// grant.
type throttle struct {
	*base
	attempts LoginAttempts
}

// counter is one counter of a login attempt and, once reserved, the count
// its reservation returned and the end of the window it counted in.
type counter struct {
	key      string
	limit    int
	end      time.Time
	form     bool // the pending login's own counter, used up by a success anyway
	count    int
	reserved bool
}

// verdict is what an attempt's reservations allow.
type verdict int

const (
	allowed   verdict = iota
	throttled         // an account or address counter is over its limit
	formEnded         // the pending login has had its wrong passwords
)

// attempt returns the counters of a login attempt on the pending request
// req, for account (accountKey) from the request's client address.
func (t *throttle) attempt(r *http.Request, req AuthRequest, account string) []counter {
	form := counter{key: "form:" + req.ID, limit: loginFormFailures, end: req.Expiry, form: true}
	return append([]counter{form}, t.accountAttempt(r, account)...)
}

// accountAttempt returns the account and address counters of a password
// attempt for account (accountKey) from the request's client address: an
// attempt without a pending login form (the password grant) counts these
// alone, against the same budgets as the login form.
func (t *throttle) accountAttempt(r *http.Request, account string) []counter {
	ip, lt := t.clientAddress(r), t.s.LoginThrottle
	end := t.now().Add(lt.Window)
	return []counter{
		{key: "aip:" + HashSecret(account+"\x00"+ip), limit: lt.PerAccountAndIP, end: end},
		{key: "ip:" + HashSecret(ip), limit: lt.PerIP, end: end},
		{key: "acct:" + HashSecret(account), limit: lt.PerAccount, end: end},
	}
}

// accountKey names what the account counters count: the account (found)
// by its subject, or else the typed name by its case fold, so that every
// spelling of a name shares one budget.
func accountKey(user User, found bool, login string) string {
	if found {
		return "sub:" + user.Subject
	}
	return "name:" + FoldCase(login)
}

// reserve takes a slot on every counter, side by side (one round trip),
// and decides by the counts returned. An attempt whose reservations failed
// gives back what it took before returning; a refused one, what it took
// within the limits.
func (t *throttle) reserve(ctx context.Context, cs []counter) (verdict, error) {
	errs := make(chan error, len(cs))
	for i := range cs {
		go func() {
			c := &cs[i]
			var err error
			c.count, c.end, err = t.attempts.ReserveLogin(ctx, c.key, c.end)
			c.reserved = err == nil
			errs <- err
		}()
	}
	var first error
	for range cs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	v := allowed
	for _, c := range cs {
		switch {
		case !c.reserved || c.count <= c.limit:
		case c.form:
			v = formEnded
		case v == allowed:
			v = throttled
		}
	}
	if first == nil && v != allowed {
		// A refused attempt gives back only the slots it took within their
		// limits, so a stranger's refused guesses cost the victim's other
		// budgets nothing. A counter over its limit keeps the slot: it
		// refuses until its window ends either way, and giving it back
		// would only cost a write per refused guess.
		for i := range cs {
			if cs[i].count > cs[i].limit {
				cs[i].reserved = false
			}
		}
	}
	if first != nil || v != allowed {
		t.release(ctx, cs, true)
	}
	return v, first
}

// release gives back the reserved slots, side by side, and waits for them
// on a context that outlives a client hanging up. The form's slot is given
// back only with withForm: a success ends the form's use as a login form.
// A failure to give back is logged: it costs the user one slot until the
// window ends, never a wrong answer.
func (t *throttle) release(ctx context.Context, cs []counter, withForm bool) {
	wctx, cancel := detach(ctx)
	defer cancel()
	errs := make(chan error, len(cs))
	n := 0
	for _, c := range cs {
		if c.reserved && (withForm || !c.form) {
			n++
			go func() { errs <- t.attempts.ReleaseLogin(wctx, c.key, c.end) }()
		}
	}
	for range n {
		if err := <-errs; err != nil {
			t.log.WarnContext(ctx, "giving back a login attempt failed", "error", err, "request_id", RequestID(ctx))
		}
	}
}

// formUsedUp reports whether the failure just counted was the pending
// login's last.
func formUsedUp(cs []counter) bool {
	for _, c := range cs {
		if c.form && c.reserved && c.count >= c.limit {
			return true
		}
	}
	return false
}

// clientAddress is the address the throttle counts a request under: the
// value of Settings.ClientAddressHeader when that is set and the header
// holds one well-formed ip:port, otherwise the peer (the local server's
// peer, or API Gateway's sourceIp, which the Lambda adapter puts in
// RemoteAddr). X-Forwarded-For and Forwarded are never read.
func (t *throttle) clientAddress(r *http.Request) string {
	if name := t.s.ClientAddressHeader; name != "" {
		values := r.Header.Values(name)
		if len(values) == 1 {
			if addr, ok := parseAddrPort(values[0]); ok {
				return throttleAddress(addr)
			}
		}
		t.log.DebugContext(r.Context(), "client address header missing or malformed; counting the peer address",
			"header", name, "values", len(values), "request_id", RequestID(r.Context()))
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return throttleAddress(ap.Addr())
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// parseAddrPort parses ip:port as CloudFront-Viewer-Address writes it:
// the address before the last colon, IPv6 without brackets
// ("2001:db8::1:443"); the bracketed form is accepted too.
func parseAddrPort(v string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr(), true
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return netip.Addr{}, false
	}
	if _, err := strconv.ParseUint(v[i+1:], 10, 16); err != nil {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(v[:i])
	return addr, err == nil
}

// throttleAddress is what an address is counted as: an IPv4 address (also
// when written IPv4-mapped) by itself, an IPv6 address by its /64 prefix.
func throttleAddress(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}

// Package github is the connector type github: Dex's GitHub connector,
// with Dex's configuration keys and meanings (dexidp's "Authentication
// Through GitHub"). The browser goes to GitHub's OAuth authorization page;
// the callback's code is exchanged for an access token, with which the
// connector reads the user, their emails, organizations and teams from
// GitHub's REST API. With hostName it talks to GitHub Enterprise Server
// (https://HOST/api/v3) instead of github.com. The access token is the
// connector data, so that Refresh can ask GitHub again: a revoked token
// or a user who left the allowed organizations ends the grant.
package github

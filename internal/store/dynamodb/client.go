package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// A stored client (oidc.ClientRegistry) is one item, pk CLIENT#<client id>
// sk CLIENT, without TTL: clients live until deleted. Its secret and its
// registration access token are stored only as HashSecret hashes. The
// provider reads it with one strongly consistent GetItem, which
// oidc.ClientDirectory caches per container for oidc.ClientCacheTTL.
// ListClients is a Scan filtered on the item type: for operators
// (oidcctl), never on a request path.
type clientItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	WriteID string `dynamodbav:"write_id"`

	ID                      string   `dynamodbav:"client_id"`
	Name                    string   `dynamodbav:"name,omitempty"`
	SecretHash              string   `dynamodbav:"secret_hash,omitempty"`
	Public                  bool     `dynamodbav:"public,omitempty"`
	RedirectURIs            []string `dynamodbav:"redirect_uris,omitempty"`
	TrustedPeers            []string `dynamodbav:"trusted_peers,omitempty"`
	AllowedOrigins          []string `dynamodbav:"allowed_origins,omitempty"`
	PostLogoutRedirectURIs  []string `dynamodbav:"post_logout_redirect_uris,omitempty"`
	GrantTypes              []string `dynamodbav:"grant_types,omitempty"`
	AllowedConnectors       []string `dynamodbav:"allowed_connectors,omitempty"`
	SSOSharedWith           []string `dynamodbav:"sso_shared_with,omitempty"`
	SSOSharedWithSet        bool     `dynamodbav:"sso_shared_with_set,omitempty"`
	LogoURL                 string   `dynamodbav:"logo_url,omitempty"`
	AllowedScopes           []string `dynamodbav:"allowed_scopes,omitempty"`
	AllowedAudiences        []string `dynamodbav:"allowed_audiences,omitempty"`
	IDTokenSigningAlg       string   `dynamodbav:"id_token_signing_alg,omitempty"`
	UserInfoSigningAlg      string   `dynamodbav:"userinfo_signing_alg,omitempty"`
	OmitRefreshIDToken      bool     `dynamodbav:"omit_refresh_id_token,omitempty"`
	RequireDPoP             bool     `dynamodbav:"require_dpop,omitempty"`
	TokenEndpointAuthMethod string   `dynamodbav:"token_endpoint_auth_method,omitempty"`

	BackchannelLogoutURI             string `dynamodbav:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `dynamodbav:"backchannel_logout_session_required,omitempty"`
	JWKS                             string `dynamodbav:"jwks,omitempty"`
	JWKSURI                          string `dynamodbav:"jwks_uri,omitempty"`
	RequestObjectSigningAlg          string `dynamodbav:"request_object_signing_alg,omitempty"`
	RequirePAR                       bool   `dynamodbav:"require_par,omitempty"`
	Profile                          string `dynamodbav:"profile,omitempty"`

	Disabled              bool     `dynamodbav:"disabled,omitempty"`
	RegistrationTokenHash string   `dynamodbav:"registration_token_hash,omitempty"`
	ResponseTypes         []string `dynamodbav:"response_types,omitempty"`
	Scope                 string   `dynamodbav:"scope,omitempty"`
	Contacts              []string `dynamodbav:"contacts,omitempty"`
	ClientURI             string   `dynamodbav:"client_uri,omitempty"`
	PolicyURI             string   `dynamodbav:"policy_uri,omitempty"`
	TOSURI                string   `dynamodbav:"tos_uri,omitempty"`
	CreatedAt             int64    `dynamodbav:"created_at,omitempty"` // epoch milliseconds
}

const typeClient = "CLIENT"

func clientPK(id string) string { return typeClient + "#" + id }

func toClientItem(c oidc.StoredClient) clientItem {
	return clientItem{
		PK: clientPK(c.ID), SK: typeClient, Type: typeClient, Version: c.Version,
		ID: c.ID, Name: c.Name, SecretHash: c.SecretHash, Public: c.Public,
		RedirectURIs: c.RedirectURIs, TrustedPeers: c.TrustedPeers, AllowedOrigins: c.AllowedOrigins,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, GrantTypes: c.GrantTypes,
		AllowedConnectors: c.AllowedConnectors, SSOSharedWith: c.SSOSharedWith, SSOSharedWithSet: c.SSOSharedWithSet,
		LogoURL: c.LogoURL, AllowedScopes: c.AllowedScopes, AllowedAudiences: c.AllowedAudiences,
		IDTokenSigningAlg: c.IDTokenSigningAlg, UserInfoSigningAlg: c.UserInfoSigningAlg, OmitRefreshIDToken: c.OmitRefreshIDToken, RequireDPoP: c.RequireDPoP,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		BackchannelLogoutURI:    c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		JWKS: c.JWKS, JWKSURI: c.JWKSURI, RequestObjectSigningAlg: c.RequestObjectSigningAlg, RequirePAR: c.RequirePAR, Profile: c.Profile,
		Disabled: c.Disabled, RegistrationTokenHash: c.RegistrationTokenHash,
		ResponseTypes: c.ResponseTypes, Scope: c.Scope, Contacts: c.Contacts,
		ClientURI: c.ClientURI, PolicyURI: c.PolicyURI, TOSURI: c.TOSURI, CreatedAt: millis(c.CreatedAt),
	}
}

func (it clientItem) stored() oidc.StoredClient {
	c := oidc.StoredClient{
		Client: oidc.Client{
			ID: it.ID, Name: it.Name, SecretHash: it.SecretHash, Public: it.Public,
			RedirectURIs: it.RedirectURIs, TrustedPeers: it.TrustedPeers, AllowedOrigins: it.AllowedOrigins,
			PostLogoutRedirectURIs: it.PostLogoutRedirectURIs, GrantTypes: it.GrantTypes,
			AllowedConnectors: it.AllowedConnectors, SSOSharedWith: it.SSOSharedWith, SSOSharedWithSet: it.SSOSharedWithSet,
			LogoURL: it.LogoURL, AllowedScopes: it.AllowedScopes, AllowedAudiences: it.AllowedAudiences,
			IDTokenSigningAlg: it.IDTokenSigningAlg, UserInfoSigningAlg: it.UserInfoSigningAlg, OmitRefreshIDToken: it.OmitRefreshIDToken, RequireDPoP: it.RequireDPoP,
			TokenEndpointAuthMethod: it.TokenEndpointAuthMethod,
			BackchannelLogoutURI:    it.BackchannelLogoutURI, BackchannelLogoutSessionRequired: it.BackchannelLogoutSessionRequired,
			JWKS: it.JWKS, JWKSURI: it.JWKSURI, RequestObjectSigningAlg: it.RequestObjectSigningAlg, RequirePAR: it.RequirePAR, Profile: it.Profile,
		},
		Disabled: it.Disabled, RegistrationTokenHash: it.RegistrationTokenHash,
		ResponseTypes: it.ResponseTypes, Scope: it.Scope, Contacts: it.Contacts,
		ClientURI: it.ClientURI, PolicyURI: it.PolicyURI, TOSURI: it.TOSURI,
		CreatedAt: fromMillis(it.CreatedAt), Version: it.Version,
	}
	if c.SSOSharedWithSet && c.SSOSharedWith == nil {
		c.SSOSharedWith = []string{} // an empty list is not stored
	}
	return c
}

// clientItems are the Store's stored clients, a type of their own so
// that Store's method set stays small; Store embeds it.
type clientItems struct{ table }

var _ oidc.ClientRegistry = (*Store)(nil)

// CreateClient implements oidc.ClientRegistry: one conditional PutItem.
func (s clientItems) CreateClient(ctx context.Context, c oidc.StoredClient) error {
	if c.ID == "" {
		return errors.New("dynamodb: CreateClient: client without id")
	}
	c.Version = 1
	it := toClientItem(c)
	it.WriteID = newWriteID()
	return s.create(ctx, "CreateClient", it, it.WriteID)
}

// StoredClient implements oidc.ClientRegistry: one strongly consistent
// GetItem.
func (s clientItems) StoredClient(ctx context.Context, id string) (oidc.StoredClient, error) {
	if id == "" {
		return oidc.StoredClient{}, oidc.ErrNotFound
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.name), Key: key(clientPK(id), typeClient), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.StoredClient{}, wrapErr("StoredClient", err)
	}
	if out.Item == nil {
		return oidc.StoredClient{}, oidc.ErrNotFound
	}
	var it clientItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return oidc.StoredClient{}, fmt.Errorf("dynamodb: StoredClient: %w", err)
	}
	return it.stored(), nil
}

// UpdateClient implements oidc.ClientRegistry: one PutItem conditioned on
// the stored version; a failed condition returns the stored item, which
// tells a conflict from a deleted client without a second read.
func (s clientItems) UpdateClient(ctx context.Context, c oidc.StoredClient) error {
	expected := c.Version
	c.Version++
	it := toClientItem(c)
	it.WriteID = newWriteID()
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("dynamodb: UpdateClient: %w", err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.name),
		Item:                                av,
		ConditionExpression:                 aws.String("#version = :version"),
		ExpressionAttributeNames:            map[string]string{"#version": attrVersion},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":version": numberAV(expected)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		switch {
		case writtenBy(old, attrWriteID, it.WriteID):
			return nil // our first attempt succeeded; the SDK retried
		case old == nil:
			return oidc.ErrNotFound
		}
		return oidc.ErrConflict
	}
	if err != nil {
		return wrapErr("UpdateClient", err)
	}
	return nil
}

// DeleteClient implements oidc.ClientRegistry: one DeleteItem on
// condition that the item exists.
func (s clientItems) DeleteClient(ctx context.Context, id string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.name),
		Key:                      key(clientPK(id), typeClient),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("DeleteClient", err)
	}
	return nil
}

// ListClients implements oidc.ClientRegistry: a paginated Scan of the
// table filtered on the client item type. It reads the whole table (the
// filter applies after the read): an operator's command, never a
// request's.
func (s clientItems) ListClients(ctx context.Context) ([]oidc.StoredClient, error) {
	scanner, ok := s.client.(ScanAPI)
	if !ok {
		return nil, errors.New("dynamodb: ListClients: the client cannot Scan")
	}
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.name),
		FilterExpression:          aws.String("#sk = :client"),
		ExpressionAttributeNames:  map[string]string{"#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":client": stringAV(typeClient)},
		ConsistentRead:            aws.Bool(true),
	}
	var out []oidc.StoredClient
	for {
		page, err := scanner.Scan(ctx, in)
		if err != nil {
			return nil, wrapErr("ListClients", err)
		}
		for _, av := range page.Items {
			var it clientItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("dynamodb: ListClients: %w", err)
			}
			out = append(out, it.stored())
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// ScanAPI is the Scan of the DynamoDB client, which only ListClients (an
// operator's command) uses: the functions' API and roles have no Scan.
type ScanAPI interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ ScanAPI = (*dynamodb.Client)(nil)

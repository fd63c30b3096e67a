package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Login is a signed-in session from the server's account API: the token to
// pass as Options.Token, and when it expires.
type Login struct {
	Name    string
	Token   string
	Expires time.Time
}

// APIError is a refusal from the account API, such as 401
// invalid_credentials or 409 name_taken.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, e.Code, e.Message)
}

// LogIn signs in as name with password at the chatd server whose WebSocket
// endpoint is wsURL (ws:// or wss://; the API is on the same host, over
// http or https). hc may be nil for http.DefaultClient.
func LogIn(ctx context.Context, hc *http.Client, wsURL, name, password string) (Login, error) {
	return account(ctx, hc, wsURL, "/api/login", name, password)
}

// Register creates an account and signs in, like LogIn.
func Register(ctx context.Context, hc *http.Client, wsURL, name, password string) (Login, error) {
	return account(ctx, hc, wsURL, "/api/register", name, password)
}

func account(ctx context.Context, hc *http.Client, wsURL, path, name, password string) (Login, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return Login{}, fmt.Errorf("chatd client: URL %q: %w", wsURL, err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return Login{}, fmt.Errorf("chatd client: URL %q: want ws:// or wss://", wsURL)
	}
	u.Path, u.RawQuery = path, ""
	body, err := json.Marshal(map[string]string{"name": name, "password": password})
	if err != nil {
		return Login{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Login{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Login{}, fmt.Errorf("chatd client: %s: %w", path, err)
	}
	defer resp.Body.Close()
	var reply struct {
		Name    string `json:"name"`
		Token   string `json:"token"`
		Expires int64  `json:"expires"`
		Error   struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return Login{}, fmt.Errorf("chatd client: %s answered %s, not the account API's JSON", path, resp.Status)
	}
	if resp.StatusCode/100 != 2 {
		return Login{}, &APIError{StatusCode: resp.StatusCode, Code: reply.Error.Code, Message: reply.Error.Message}
	}
	return Login{Name: reply.Name, Token: reply.Token, Expires: time.UnixMilli(reply.Expires)}, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/chatd/chatd/client"
)

// signIn logs in (or registers) with the account API for -login or
// -register and returns the token to connect with. The password comes from
// CHATD_PASSWORD, or from the terminal without echo; never from a flag,
// which other users could read in the process list.
func signIn(ctx context.Context, cfg config, stdin io.Reader, stderr io.Writer) (string, error) {
	name, how := cfg.login, client.LogIn
	if cfg.signup != "" {
		name, how = cfg.signup, client.Register
	}
	password, ok := os.LookupEnv("CHATD_PASSWORD")
	if !ok {
		f, isFile := stdin.(*os.File)
		if !isFile || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("set CHATD_PASSWORD: stdin is not a terminal to ask for the password on")
		}
		fmt.Fprintf(stderr, "password for %s: ", name)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		password = string(b)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	login, err := how(ctx, nil, cfg.urls()[0], name, password)
	if err != nil {
		return "", fmt.Errorf("signing in as %s: %w", name, err)
	}
	return login.Token, nil
}

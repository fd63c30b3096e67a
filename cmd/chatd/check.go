package main

import (
	"flag"
	"fmt"
	"log/slog"
)

// check refuses settings that make no sense, such as a negative connection
// cap, naming the flag, and the environment variable when the value came
// from there. env holds the flags set from the environment.
func (c *config) check(fs *flag.FlagSet, env map[string]bool) error {
	var lv slog.Level
	for _, r := range []struct {
		flag string
		bad  bool
		want string
	}{
		{"max-message-bytes", c.server.MaxMessageBytes < 1, "at least 1"},
		{"max-conns", c.server.MaxConns < 1, "at least 1"},
		{"queue-bytes", c.server.QueueBytes < 1, "at least 1"},
		{"reply-bytes", c.server.ReplyBytes < 0, "0 (a quarter of -queue-bytes) or more"},
		{"ping-interval", c.server.PingInterval <= 0, "a duration above 0"},
		{"presence-interval", c.server.PresenceInterval <= 0, "a duration above 0"},
		{"idle-timeout", c.server.IdleTimeout <= 0, "a duration above 0"},
		{"write-timeout", c.server.WriteTimeout <= 0, "a duration above 0"},
		{"handshake-timeout", c.server.HandshakeTimeout <= 0, "a duration above 0"},
		{"writers", c.server.Writers < 0, "0 (one per CPU) or more"},
		{"max-rooms", c.server.MaxRooms < 1, "at least 1"},
		{"send-rate", c.sendRate < 0, "0 (no limit) or more"},
		{"rooms-per-account", c.server.RoomsPerAccount < 0, "0 (no limit) or more"},
		{"request-rate", c.requestRate < 0, "0 (no limit) or more"},
		{"send-burst", c.server.SendBurst < 0, "0 (twice -send-rate) or more"},
		{"send-byte-rate", c.sendByteRate < 0, "0 (no limit) or more"},
		{"send-byte-burst", c.server.SendByteBurst < 0, "0 (a quarter of -queue-bytes) or more"},
		{"store-shards", c.server.StoreShards < 0, "0 (the store's default) or more"},
		{"retention-age", c.server.RetentionAge < 0, "0 (keep) or a duration above 0"},
		{"retention-messages", c.server.RetentionMessages < 0, "0 (all) or more"},
		{"join-history", c.joinHistory < 0, "0 (none) or more"},
		{"history-limit", c.server.HistoryLimit < 1, "at least 1"},
		{"token-ttl", c.server.TokenTTL <= 0, "a duration above 0"},
		{"ip-conns", c.server.IPConns < 0, "0 (no limit) or more"},
		{"ip-conn-rate", c.server.IPConnRate < 0, "0 (no limit) or more"},
		{"ip-conn-burst", c.server.IPConnBurst < 0, "0 (100) or more"},
		{"ip-tcp-conns", c.server.IPTCPConns < -1, "0 (-ip-conns plus 100), more, or -1 for no limit"},
		{"keepalive-timeout", c.server.KeepAliveTimeout <= 0, "a duration above 0"},
		{"logins-per-account", c.server.LoginsPerAccount < 0, "0 (no limit) or more"},
		{"logins-per-ip", c.server.LoginsPerIP < 0, "0 (no limit) or more"},
		{"shutdown-timeout", c.shutdownTimeout < 0, "0 or a duration above 0"},
		{"log-format", c.logFormat != "text" && c.logFormat != "json", "text or json"},
		{"log-level", lv.UnmarshalText([]byte(c.logLevel)) != nil, "debug, info, warn or error"},
	} {
		if !r.bad {
			continue
		}
		f := fs.Lookup(r.flag)
		if env[r.flag] {
			return fmt.Errorf("environment %s=%q (-%s): want %s", envName(r.flag), f.Value, r.flag, r.want)
		}
		return fmt.Errorf("-%s %s: want %s", r.flag, f.Value, r.want)
	}
	if err := c.checkCluster(); err != nil {
		return err
	}
	if c.server.MaxMessageBytes >= c.server.QueueBytes {
		// Every recipient of such a message would be cut off as a slow
		// consumer.
		return fmt.Errorf("-max-message-bytes %d: want less than -queue-bytes (%d)", c.server.MaxMessageBytes, c.server.QueueBytes)
	}
	return nil
}

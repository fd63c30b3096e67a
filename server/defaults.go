package server

import (
	"time"

	"github.com/chatd/chatd/hub"
)

// The defaults of Config: what a zero field stands for. The chatd command's
// flags take their defaults from here too, and a test there holds the
// README's configuration table to the flags, so the code, the command line
// and the docs cannot drift apart. Defaults derived from other fields
// (ReplyBytes, SendBurst, SendByteBurst, IPTCPConns) or from the machine
// (MaxConns, Writers) are documented on their fields.
const (
	DefaultMaxMessageBytes         = 64 << 10
	DefaultQueueBytes              = 1 << 20
	DefaultPingInterval            = 25 * time.Second
	DefaultIdleTimeout             = 60 * time.Second
	DefaultWriteTimeout            = 10 * time.Second
	DefaultHandshakeTimeout        = 10 * time.Second
	DefaultMaxRooms                = 100
	DefaultRoomsPerAccount         = 100
	DefaultSendRate                = 20
	DefaultSendByteRate            = 128 << 10
	DefaultRequestRate             = 1
	DefaultStoreBacklog            = hub.DefaultMaxBacklog
	DefaultRetentionInterval       = time.Minute
	DefaultJoinHistory             = 50
	DefaultPresenceInterval        = hub.DefaultPresenceInterval
	DefaultHistoryLimit            = 1000
	DefaultTokenTTL                = 7 * 24 * time.Hour
	DefaultLoginsPerAccount        = 5
	DefaultLoginsPerIP             = 30
	DefaultLoginFailuresPerAccount = 60
	DefaultKeepAliveTimeout        = 20 * time.Second
	DefaultNameLease               = 15 * time.Second
)

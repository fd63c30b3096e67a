module github.com/chatd/chatd

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	github.com/gobwas/ws v1.5.0
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.16.0
)

require github.com/gobwas/httphead v0.1.0 // indirect

// Package metrics owns chatd's Prometheus exposition: it turns a server's
// counters into metrics when scraped and serves them with the Go runtime
// and process collectors.
//
// Nothing is counted here. The server keeps plain atomic counters on paths
// that already do work, and the collector reads a snapshot per scrape, so
// metrics cost nothing on the fan-out path.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatd/chatd/server"
)

// Source is what the collector reads; *server.Server implements it.
type Source interface {
	Stats() server.Stats
}

// Handler serves src's metrics, with Go runtime and process metrics and any
// extra collectors (such as Commits), in the Prometheus text format. It is
// safe for concurrent use.
func Handler(src Source, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		&collector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(extra...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

var (
	connsDesc = prometheus.NewDesc("chatd_connections",
		"Open WebSocket connections.", nil, nil)
	roomsDesc = prometheus.NewDesc("chatd_rooms",
		"Rooms with at least one member.", nil, nil)
	acceptedDesc = prometheus.NewDesc("chatd_connections_accepted_total",
		"WebSocket connections accepted.", nil, nil)
	refusedDesc = prometheus.NewDesc("chatd_connections_refused_total",
		"WebSocket upgrades refused, by reason (invalid, name_held, capacity, shutdown, unauthorized, forbidden, origin, ip_conns, ip_rate, unavailable).", []string{"reason"}, nil)
	messagesDesc = prometheus.NewDesc("chatd_messages_received_total",
		"Chat messages received from clients and published to a room.", nil, nil)
	deliveriesDesc = prometheus.NewDesc("chatd_deliveries_total",
		"Chat messages queued for recipients (one per recipient).", nil, nil)
	writesDesc = prometheus.NewDesc("chatd_socket_writes_total",
		"Socket writes of queued frames; under load many frames share one, so this grows slower than chatd_deliveries_total.", nil, nil)
	evictionsDesc = prometheus.NewDesc("chatd_slow_consumer_evictions_total",
		"Connections closed with 1013 because their outbound queue overflowed.", nil, nil)
	requestErrorsDesc = prometheus.NewDesc("chatd_request_errors_total",
		"JSON requests refused, by protocol error code.", []string{"code"}, nil)
	accountsDesc = prometheus.NewDesc("chatd_account_requests_total",
		"Account API requests (register, login, password) by result: ok or the error code.", []string{"request", "result"}, nil)
)

type collector struct{ src Source }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connsDesc, roomsDesc, acceptedDesc, refusedDesc, messagesDesc, deliveriesDesc, writesDesc, evictionsDesc, requestErrorsDesc, accountsDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	ch <- prometheus.MustNewConstMetric(connsDesc, prometheus.GaugeValue, float64(st.Conns))
	ch <- prometheus.MustNewConstMetric(roomsDesc, prometheus.GaugeValue, float64(st.Rooms))
	ch <- prometheus.MustNewConstMetric(acceptedDesc, prometheus.CounterValue, float64(st.Accepted))
	for reason, n := range st.Refused {
		ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.CounterValue, float64(st.MessagesIn))
	ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.CounterValue, float64(st.Deliveries))
	ch <- prometheus.MustNewConstMetric(writesDesc, prometheus.CounterValue, float64(st.Writes))
	ch <- prometheus.MustNewConstMetric(evictionsDesc, prometheus.CounterValue, float64(st.SlowEvictions))
	for code, n := range st.RequestErrors {
		ch <- prometheus.MustNewConstMetric(requestErrorsDesc, prometheus.CounterValue, float64(n), code)
	}
	for o, n := range st.Accounts {
		ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.CounterValue, float64(n), o.Request, o.Result)
	}
}

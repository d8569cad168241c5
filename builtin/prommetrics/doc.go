// Package prommetrics is the prometheus-metrics plugin. Scenarios and other
// plugins record chaos metrics through Execute: counters, gauges and
// histograms with labels. The plugin exposes them on its own loopback HTTP
// listener at /metrics, in the Prometheus text format and in OpenMetrics,
// with the calling tenant as the label "tenant". It can also push them to
// a Prometheus Pushgateway.
//
// Names and labels follow the Prometheus rules, each metric keeps one type
// and one set of label names, and each tenant has a bounded number of
// series. README.md documents the config and the operations record, list
// and delete.
//
// The plugin is written against the public SDK only and is served out of
// process:
//
//	sdk.Serve(prommetrics.New())
package prommetrics

package cwmetrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The Prometheus face of the store: the same figures as counters since
// each series appeared (a series dropped past the retention or MaxSeries
// starts again from zero, which Prometheus reads as a counter reset), the
// provisioned units as gauges and the latency as a summary (sum and
// count, no quantiles).
var (
	promCounters = map[string]*prometheus.Desc{
		ConsumedRead:      prometheus.NewDesc("eddy_dynamodb_consumed_read_capacity_units_total", "Read capacity units consumed (AWS/DynamoDB ConsumedReadCapacityUnits); index is a global secondary index, empty for the table.", []string{"region", "table", "index"}, nil),
		ConsumedWrite:     prometheus.NewDesc("eddy_dynamodb_consumed_write_capacity_units_total", "Write capacity units consumed (AWS/DynamoDB ConsumedWriteCapacityUnits); index is a global secondary index, empty for the table.", []string{"region", "table", "index"}, nil),
		ReadThrottles:     prometheus.NewDesc("eddy_dynamodb_read_throttle_events_total", "Read throttle events (AWS/DynamoDB ReadThrottleEvents).", []string{"region", "table", "index"}, nil),
		WriteThrottles:    prometheus.NewDesc("eddy_dynamodb_write_throttle_events_total", "Write throttle events (AWS/DynamoDB WriteThrottleEvents).", []string{"region", "table", "index"}, nil),
		ThrottledRequests: prometheus.NewDesc("eddy_dynamodb_throttled_requests_total", "Requests throttled (AWS/DynamoDB ThrottledRequests).", []string{"region", "table", "operation"}, nil),
		ReturnedItems:     prometheus.NewDesc("eddy_dynamodb_returned_items_total", "Items returned by Query and Scan (AWS/DynamoDB ReturnedItemCount).", []string{"region", "table", "operation"}, nil),
	}
	promGauges = map[string]*prometheus.Desc{
		ProvisionedRead:  prometheus.NewDesc("eddy_dynamodb_provisioned_read_capacity_units", "Provisioned read capacity units (AWS/DynamoDB ProvisionedReadCapacityUnits), sampled every minute.", []string{"region", "table", "index"}, nil),
		ProvisionedWrite: prometheus.NewDesc("eddy_dynamodb_provisioned_write_capacity_units", "Provisioned write capacity units (AWS/DynamoDB ProvisionedWriteCapacityUnits), sampled every minute.", []string{"region", "table", "index"}, nil),
	}
	promLatency = prometheus.NewDesc("eddy_dynamodb_successful_request_latency_seconds", "Latency of successful requests (AWS/DynamoDB SuccessfulRequestLatency).", []string{"region", "table", "operation"}, nil)
)

// Collector returns the store's Prometheus collector (for the server's
// registry; /metrics).
func (s *Store) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Store }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range promCounters {
		ch <- d
	}
	for _, d := range promGauges {
		ch <- d
	}
	ch <- promLatency
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.s.totals(func(k Key, total Stat, last float64) {
		second := k.Index
		if k.Op != "" {
			second = k.Op
		}
		if d := promCounters[k.Metric]; d != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, total.Sum, k.Region, k.Table, second)
		} else if d := promGauges[k.Metric]; d != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, last, k.Region, k.Table, second)
		} else if k.Metric == RequestLatency {
			ch <- prometheus.MustNewConstSummary(promLatency, uint64(total.Count), total.Sum/1000, nil, k.Region, k.Table, k.Op)
		}
	})
}

package mappings

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are registered in one place; the delivery path only increments.
// Every series carries the mapping's UUID and function name.
type metrics struct {
	iteratorAge *prometheus.GaugeVec
	invocations *prometheus.CounterVec
	errors      *prometheus.CounterVec
	retries     *prometheus.CounterVec
	filtered    *prometheus.CounterVec
	failed      *prometheus.CounterVec
	records     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

var labels = []string{"uuid", "function"}

// newMetrics registers the mappings' metrics on reg (nil: a private
// registry).
func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		iteratorAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "eddy_esm_iterator_age_milliseconds",
			Help: "Lambda's IteratorAge: age of the last record of the latest batch sent to the function, when it was sent.",
		}, labels),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_invocations_total", Help: "Function invocations by event source mappings.",
		}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_errors_total", Help: "Invocations that returned a function error or reported failed items.",
		}, labels),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_retries_total", Help: "Batch retries after a function error (bisect splits excluded).",
		}, labels),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_records_filtered_total", Help: "Records dropped by FilterCriteria without an invocation.",
		}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_records_failed_total", Help: "Records given up on and sent to the failure destination.",
		}, labels),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eddy_esm_records_delivered_total", Help: "Records delivered in successful invocations.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eddy_esm_batch_duration_seconds",
			Help:    "Duration of one invocation of a batch, including committing its checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, labels),
	}
	reg.MustRegister(m.iteratorAge, m.invocations, m.errors, m.retries, m.filtered, m.failed, m.records, m.duration)
	return m
}

func (m *metrics) forget(uuid, fn string) {
	for _, v := range []interface {
		DeleteLabelValues(...string) bool
	}{m.iteratorAge, m.invocations, m.errors, m.retries, m.filtered, m.failed, m.records, m.duration} {
		v.DeleteLabelValues(uuid, fn)
	}
}

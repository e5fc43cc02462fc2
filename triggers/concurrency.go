package triggers

import "github.com/eddydb/eddy/internal/kv"

// PutFunctionConcurrency sets the function's reserved concurrency (Lambda's
// ReservedConcurrentExecutions): at most n of its invocations run at once,
// and n slots of Options.MaxConcurrency are kept for it alone. 0 stops
// every invocation of the function. It applies to every version and alias.
//
// It fails with ErrValidation for n < 0 and, as Lambda does, with
// ErrInvalidParameter when the reservations together would leave less than
// Options.MinUnreservedConcurrency to the other functions.
func (h *Host) PutFunctionConcurrency(name string, n int) (int, error) {
	if n < 0 {
		return 0, newErr(ErrValidation, "1 validation error detected: Value '%d' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0", n)
	}
	return n, h.setConcurrency(name, &n)
}

// GetFunctionConcurrency returns the function's reserved concurrency; ok
// is false when it has none.
func (h *Host) GetFunctionConcurrency(name string) (n int, ok bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, _, err := h.resolveLocked(name, "")
	if err != nil || r.ReservedConcurrency == nil {
		return 0, false, err
	}
	return *r.ReservedConcurrency, true, nil
}

// DeleteFunctionConcurrency removes the function's reservation: it shares
// the unreserved concurrency again.
func (h *Host) DeleteFunctionConcurrency(name string) error { return h.setConcurrency(name, nil) }

func (h *Host) setConcurrency(name string, n *int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	old, _, err := h.resolveLocked(name, "")
	if err != nil {
		return err
	}
	if n != nil {
		// Lambda: "Specified ReservedConcurrentExecutions for function
		// decreases account's UnreservedConcurrentExecution below its
		// minimum value of [100]." (quoted in milliHQ/terraform-aws-next-js#251
		// and aws-samples/siem-on-amazon-opensearch-service#175, with the
		// account's minimum in brackets). Lowering a reservation is always
		// allowed.
		others := h.limits.reservedExcept(name)
		cur := -1
		if old.ReservedConcurrency != nil {
			cur = *old.ReservedConcurrency
		}
		if *n > cur && h.opts.MaxConcurrency-others-*n < h.opts.MinUnreservedConcurrency {
			return newErr(ErrInvalidParameter, "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", h.opts.MinUnreservedConcurrency)
		}
	}
	r := cloneRecord(old)
	r.ReservedConcurrency = n
	if err := h.deps.DB.Write(true, func(b kv.Writer) error {
		return b.Set(fnKey(name), mustJSON(r))
	}); err != nil {
		return err
	}
	h.fns[name] = r
	if n != nil {
		h.limits.setReservation(name, *n)
		h.log.Info("function concurrency reserved", "function", name, "reserved", *n)
	} else {
		h.limits.setReservation(name, -1)
		h.log.Info("function concurrency reservation removed", "function", name)
	}
	return nil
}

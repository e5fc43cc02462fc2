package appautoscaling

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/eddydb/eddy/internal/kv"
)

// KV is the Service's key space (store.SpaceAutoScaling, implemented by
// store.KeySpace without this package importing store). Its layout:
//
//	t\x00<region>\x00<resource ID>\x00<dimension>            a target (JSON targetRec)
//	p\x00<region>\x00<resource ID>\x00<dimension>\x00<name>  a policy (JSON policyRec)
//	a\x00<seq: 8 bytes big-endian>                            an activity (JSON activityRec)
//
// Every change is written, synced, before it is applied in memory, so a
// change is either durable and visible or neither.
type KV interface {
	Scan(lower, upper []byte, fn func(key, value []byte) error) error
	Write(sync bool, fn func(w kv.Writer) error) error
}

func targetKey(r resource) []byte {
	return []byte("t\x00" + r.Region + "\x00" + r.ResourceID + "\x00" + r.Dimension)
}

func policyKeyOf(k policyKey) []byte {
	return []byte("p\x00" + k.Region + "\x00" + k.ResourceID + "\x00" + k.Dimension + "\x00" + k.name)
}

func activityKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("a\x00"), seq)
}

type targetRec struct {
	Region, ResourceID, Dimension string
	Min, Max                      int64
	Role, ARN                     string
	Created                       time.Time
	Suspended                     SuspendedState
	LastOut, LastIn, LastScale    time.Time
}

type policyRec struct {
	Region, ResourceID, Dimension string
	Name, ARN                     string
	Created                       time.Time
	Config                        TargetTracking
	Alarms                        []alarm
}

type activityRec struct {
	Seq                                     uint64
	Region, ResourceID, Dimension           string
	ID, Description, Cause, Status, Message string
	Start, End                              time.Time
}

func (t *target) rec() targetRec {
	return targetRec{t.Region, t.ResourceID, t.Dimension, t.min, t.max, t.role, t.arn, t.created, t.suspended, t.lastOut, t.lastIn, t.lastScale}
}

func (p *policy) rec() policyRec {
	return policyRec{p.Region, p.ResourceID, p.Dimension, p.name, p.arn, p.created, p.cfg, p.alarms}
}

func (a *activity) rec() activityRec {
	return activityRec{a.seq, a.Region, a.ResourceID, a.Dimension, a.id, a.description, a.cause, a.status, a.message, a.start, a.end}
}

// save writes a target or policy (nil deletes) and the keys in del, synced.
// Called with mu held; a nil KV keeps everything in memory.
func (s *Service) save(sets map[string]any, del ...[]byte) error {
	if s.kv == nil {
		return nil
	}
	return s.kv.Write(true, func(w kv.Writer) error {
		for k, v := range sets {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := w.Set([]byte(k), b); err != nil {
				return err
			}
		}
		for _, k := range del {
			if err := w.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads what the key space holds.
func (s *Service) load() error {
	if s.kv == nil {
		return nil
	}
	return s.kv.Scan(nil, nil, func(key, value []byte) error {
		switch key[0] {
		case 't':
			var r targetRec
			if err := json.Unmarshal(value, &r); err != nil {
				return err
			}
			res := resource{r.Region, r.ResourceID, r.Dimension}
			s.targets[res] = &target{resource: res, min: r.Min, max: r.Max, role: r.Role, arn: r.ARN, created: r.Created,
				suspended: r.Suspended, lastOut: r.LastOut, lastIn: r.LastIn, lastScale: r.LastScale}
		case 'p':
			var r policyRec
			if err := json.Unmarshal(value, &r); err != nil {
				return err
			}
			res := resource{r.Region, r.ResourceID, r.Dimension}
			s.policies[policyKey{res, r.Name}] = &policy{resource: res, name: r.Name, arn: r.ARN, created: r.Created, cfg: r.Config, alarms: r.Alarms}
		case 'a':
			var r activityRec
			if err := json.Unmarshal(value, &r); err != nil {
				return err
			}
			s.activities = append(s.activities, &activity{resource: resource{r.Region, r.ResourceID, r.Dimension}, seq: r.Seq,
				id: r.ID, description: r.Description, cause: r.Cause, status: r.Status, message: r.Message, start: r.Start, end: r.End})
			s.seq = max(s.seq, r.Seq)
		}
		return nil
	})
}

package memremote

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/tidbro/tidbro"
)

// Op is a call of the tidbro.Remote interface, as seen by a Fault.
type Op string

const (
	OpChanges Op = "changes"
	OpFetch   Op = "fetch"
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpDelete  Op = "delete"
)

// FaultAction is what an injected fault does to one call.
type FaultAction int

const (
	// None lets the call through.
	None FaultAction = iota
	// Fail returns a transient EUNAVAILABLE error; nothing is done.
	Fail
	// FailAfter applies the call, then returns a transient EUNAVAILABLE
	// error: the response was lost. Retries must be idempotent.
	FailAfter
	// Timeout returns an error wrapping context.DeadlineExceeded; nothing is
	// done.
	Timeout
	// Reject returns a permanent EINVALID error for the item; nothing is
	// done. In Fetch it makes that id an ItemError, not a call failure.
	Reject
)

func (a FaultAction) String() string {
	switch a {
	case None:
		return "none"
	case Fail:
		return "fail"
	case FailAfter:
		return "fail-after"
	case Timeout:
		return "timeout"
	case Reject:
		return "reject"
	}
	return fmt.Sprintf("FaultAction(%d)", int(a))
}

// Fault decides the fate of each call. id is the item's id (Update, Delete,
// and each requested id of a Fetch), the key for Create, and "" for Changes.
// It is called under the remote's lock, in call order, so it must not call
// the remote itself.
type Fault func(op Op, id string) FaultAction

// SetFault installs a fault plan; nil removes it.
func (r *Remote) SetFault(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fault = f
}

// RandomFaults returns a seeded fault plan failing a share rate of calls,
// each with Fail, FailAfter or Timeout. It leaves Reject out: a rejection is
// permanent, so a run under random faults could never converge. The plan
// draws from rng, which must not be used elsewhere meanwhile.
func RandomFaults(rng *rand.Rand, rate float64) Fault {
	actions := []FaultAction{Fail, FailAfter, Timeout}
	return func(Op, string) FaultAction {
		if rng.Float64() >= rate {
			return None
		}
		return actions[rng.IntN(len(actions))]
	}
}

func (r *Remote) faultFor(op Op, id string) FaultAction {
	if r.fault == nil {
		return None
	}
	return r.fault(op, id)
}

func faultError(a FaultAction, op Op, id string) error {
	switch a {
	case Timeout:
		return fmt.Errorf("memremote: %s %q: injected timeout: %w", op, id, context.DeadlineExceeded)
	case Reject:
		return tidbro.Errorf(tidbro.EINVALID, "memremote: %s %q: injected rejection", op, id)
	case FailAfter:
		return lostResponse(op, id)
	}
	return tidbro.Errorf(tidbro.EUNAVAILABLE, "memremote: %s %q: injected failure", op, id)
}

func lostResponse(op Op, id string) error {
	return tidbro.Errorf(tidbro.EUNAVAILABLE, "memremote: %s %q: injected failure after the call was applied", op, id)
}

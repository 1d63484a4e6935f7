package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
)

// RunSlots runs the contract of dispatch.Slots. newSlots returns fresh,
// empty slots each call.
func RunSlots(t *testing.T, newSlots func(t *testing.T) dispatch.Slots) {
	ctx := context.Background()
	take := func(t *testing.T, s dispatch.Slots, key, id string, max int) (bool, []string) {
		t.Helper()
		held, holders, err := s.TakeSlot(ctx, key, id, max)
		if err != nil {
			t.Fatalf("TakeSlot(%s, %s): %v", key, id, err)
		}
		return held, holders
	}

	t.Run("slots are taken up to the bound, and a full key names its holders", func(t *testing.T) {
		s := newSlots(t)
		for _, id := range []string{"r-a", "r-b"} {
			if held, _ := take(t, s, "job#j", id, 2); !held {
				t.Fatalf("%s got no slot of two", id)
			}
		}
		held, holders := take(t, s, "job#j", "r-c", 2)
		slices.Sort(holders)
		if held || !slices.Equal(holders, []string{"r-a", "r-b"}) {
			t.Errorf("third take = %v holders %v; want refused, naming r-a and r-b", held, holders)
		}
	})

	t.Run("taking twice holds one slot", func(t *testing.T) {
		s := newSlots(t)
		take(t, s, "job#j", "r-a", 2)
		if held, _ := take(t, s, "job#j", "r-a", 2); !held {
			t.Fatal("a run that holds a slot was refused it again")
		}
		if held, _ := take(t, s, "job#j", "r-b", 2); !held {
			t.Error("the second run got no slot: the first run's second take counted twice")
		}
		if held, _ := take(t, s, "job#j", "r-a", 2); !held {
			t.Error("a holder of a full key was refused its own slot")
		}
	})

	t.Run("a freed slot is taken by the next run, and freeing twice frees once", func(t *testing.T) {
		s := newSlots(t)
		take(t, s, "job#j", "r-a", 1)
		freed, err := s.FreeSlot(ctx, "job#j", "r-a")
		if err != nil || !freed {
			t.Fatalf("FreeSlot = %v, %v; want freed", freed, err)
		}
		if freed, err := s.FreeSlot(ctx, "job#j", "r-a"); err != nil || freed {
			t.Errorf("second FreeSlot = %v, %v; want nothing freed", freed, err)
		}
		if freed, err := s.FreeSlot(ctx, "job#other", "r-z"); err != nil || freed {
			t.Errorf("FreeSlot of a key never taken = %v, %v; want nothing freed", freed, err)
		}
		if held, _ := take(t, s, "job#j", "r-b", 1); !held {
			t.Error("the freed slot was not taken")
		}
		holders, err := s.SlotHolders(ctx, "job#j")
		if err != nil || !slices.Equal(holders, []string{"r-b"}) {
			t.Errorf("SlotHolders = %v, %v; want [r-b]", holders, err)
		}
	})

	t.Run("keys are counted apart", func(t *testing.T) {
		s := newSlots(t)
		take(t, s, "job#a", "r-a", 1)
		if held, _ := take(t, s, "job#b", "r-b", 1); !held {
			t.Error("a slot of job b was refused because job a is full")
		}
		if held, _ := take(t, s, "deployment", "r-a", 1); !held {
			t.Error("the deployment's slot was refused to a run holding its job's")
		}
		if holders, err := s.SlotHolders(ctx, "job#none"); err != nil || len(holders) != 0 {
			t.Errorf("SlotHolders of an unused key = %v, %v; want none", holders, err)
		}
	})

	t.Run("many runs taking slots at once get exactly the bound", func(t *testing.T) {
		s := newSlots(t)
		const n, max = 40, 3
		var wg sync.WaitGroup
		got := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = s.TakeSlot(ctx, "job#race", fmt.Sprintf("r-%02d", i), max)
			}()
		}
		wg.Wait()
		held := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("TakeSlot: %v", errs[i])
			}
			if got[i] {
				held++
			}
		}
		holders, err := s.SlotHolders(ctx, "job#race")
		if held != max || err != nil || len(holders) != max {
			t.Errorf("%d of %d runs got a slot, %d holders (%v); want exactly %d", held, n, len(holders), err, max)
		}
	})
}

package keyed

import (
	"sync"
	"testing"
)

func TestOneKeyIsHeldByOneCallerAtATimeAndIsDroppedAfter(t *testing.T) {
	var k Mutex
	var wg sync.WaitGroup
	inside, most := 0, 0
	var mu sync.Mutex
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer k.Lock("run")()
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			mu.Lock()
			inside--
			mu.Unlock()
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d callers held one key at once, want 1", most)
	}
	unlockA := k.Lock("a")
	unlockB := k.Lock("b") // another key is not held up
	unlockB()
	unlockA()
	if len(k.m) != 0 {
		t.Errorf("%d keys kept after their last unlock", len(k.m))
	}
}

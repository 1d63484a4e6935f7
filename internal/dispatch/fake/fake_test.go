package fake_test

import (
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
	"github.com/longshore/longshore/internal/dispatch/fake"
	"github.com/longshore/longshore/internal/dispatch/storetest"
)

func TestStoreKeepsTheRunStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) dispatch.RunStore { return fake.NewStore() })
}

func TestMemorySlotsKeepTheSlotsContract(t *testing.T) {
	storetest.RunSlots(t, func(*testing.T) dispatch.Slots { return &dispatch.MemorySlots{} })
}

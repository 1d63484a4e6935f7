package deploy_test

import (
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/deploy"
)

func TestAPayloadKeyLiesBelowTheJobsPrefixTheTaskRoleMayRead(t *testing.T) {
	key := deploy.PayloadKey("orders", "r-0123456789abcdef")
	if !strings.HasPrefix(key, deploy.PayloadKeyPrefix("orders")) || !strings.HasSuffix(key, "/r-0123456789abcdef.json") {
		t.Errorf("PayloadKey = %q", key)
	}
	if strings.HasPrefix(key, deploy.PayloadKeyPrefix("order")) {
		t.Errorf("the key of job orders lies below job order's prefix: %q", key)
	}
}

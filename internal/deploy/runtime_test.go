package deploy_test

import (
	"strings"
	"testing"

	"github.com/longshore/longshore/internal/deploy"
)

func TestABodyKeyLiesBelowTheJobsPrefixTheTaskRoleMayRead(t *testing.T) {
	key := deploy.BodyKey("orders", "r-0123456789abcdef")
	if !strings.HasPrefix(key, deploy.PayloadKeyPrefix("orders")) || !strings.HasSuffix(key, "/r-0123456789abcdef.body") {
		t.Errorf("BodyKey = %q", key)
	}
	if strings.HasPrefix(key, deploy.PayloadKeyPrefix("order")) {
		t.Errorf("the key of job orders lies below job order's prefix: %q", key)
	}
}

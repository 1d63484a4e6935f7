package store

import (
	"path/filepath"
	"testing"

	"github.com/longshore/longshore/internal/dispatch"
)

func TestPausesSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "longshore.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.GetPause(ctx, "hello"); found || err != nil {
		t.Fatalf("GetPause of a job never paused: %v, %v", found, err)
	}
	if err := s.SetPause(ctx, dispatch.Pause{Job: "hello", Paused: true, Reason: "db upgrade", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, dispatch.Pause{Job: "other", Paused: true, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, dispatch.Pause{Job: "other", Paused: false, At: at}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	p, found, err := s.GetPause(ctx, "hello")
	if err != nil || !found || !p.Paused || p.Reason != "db upgrade" || !p.At.Equal(at) {
		t.Errorf("GetPause after a restart = %+v, %v, %v", p, found, err)
	}
	all, err := s.ListPauses(ctx)
	if err != nil || len(all) != 2 || all[1].Job != "other" || all[1].Paused {
		t.Errorf("ListPauses = %+v, %v", all, err)
	}
}

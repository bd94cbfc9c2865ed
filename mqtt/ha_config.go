package mqtt

import (
	"errors"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/sched"
)

// JobSelection is the home_assistant_jobs key: which jobs Home Assistant
// shows. In YAML it is all (the zero value), none, or a list of job ids.
type JobSelection struct {
	None bool     // no job
	IDs  []string // only these; nil with None false: all
}

// AllJobs, NoJobs and OnlyJobs build the selections.
var (
	AllJobs = JobSelection{}
	NoJobs  = JobSelection{None: true}
)

// OnlyJobs selects the jobs with these ids.
func OnlyJobs(ids ...string) JobSelection { return JobSelection{IDs: ids} }

// Has reports whether the job with this id is selected.
func (s JobSelection) Has(id string) bool {
	ids, all := s.selected()
	return all || slices.Contains(ids, id)
}

// selected returns the selection as every job (all), or as the ids of the
// jobs it lists (none lists no id).
func (s JobSelection) selected() (ids []string, all bool) {
	switch {
	case s.None:
		return nil, false
	case s.IDs == nil:
		return nil, true
	}
	return s.IDs, false
}

// UnmarshalYAML reads all, none or a list of job ids.
func (s *JobSelection) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Value {
		case "all", "":
			*s = AllJobs
			return nil
		case "none":
			*s = NoJobs
			return nil
		}
	case yaml.SequenceNode:
		ids := []string{}
		if err := n.Decode(&ids); err != nil {
			return err
		}
		*s = OnlyJobs(ids...)
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d column %d: want all, none or a list of job ids", n.Line, n.Column)}}
}

// MarshalYAML writes the form UnmarshalYAML reads.
func (s JobSelection) MarshalYAML() (any, error) {
	switch {
	case s.None:
		return "none", nil
	case s.IDs == nil:
		return "all", nil
	}
	return s.IDs, nil
}

func (s JobSelection) validate() error {
	if s.None && s.IDs != nil {
		return errors.New("none and a list of jobs at once")
	}
	for i, id := range s.IDs {
		if !sched.IDPattern.MatchString(id) {
			return fmt.Errorf("[%d]: %q is not a job id (%s)", i, id, sched.IDPattern)
		}
		if slices.Contains(s.IDs[:i], id) {
			return fmt.Errorf("[%d]: %q is listed twice", i, id)
		}
	}
	return nil
}

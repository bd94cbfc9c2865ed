package sched

// Field is a bit set of the writable fields of a job document.
type Field uint16

// Writable fields.
const (
	FieldID Field = 1 << iota
	FieldName
	FieldTrigger
	FieldAction
	FieldMisfireGraceTime
	FieldCoalesce
	FieldMaxInstances
	FieldPaused
	FieldRemote
)

// Patch is a job as a user submitted it: Job holds the values, Fields says
// which of them were given (so Add fills the rest with defaults and Modify
// changes only those).
type Patch struct {
	Job    Job
	Fields Field
}

// DecodeMode selects how DecodeJob treats its input.
type DecodeMode int

// Decode modes.
const (
	// ModeAdd: a job document for add or for the config file; read-only
	// fields are refused.
	ModeAdd DecodeMode = iota
	// ModeChanges: the changes of a modify; read-only fields and id are
	// refused; null sets a field's null value.
	ModeChanges
	// ModeImport: a job document from an export; read-only fields are
	// ignored (they are recomputed).
	ModeImport
)

// DecodeJob strictly decodes one job document: an unknown field or a value
// of the wrong type is a bad_request *Error naming the field.
func DecodeJob(data []byte, mode DecodeMode) (Patch, error) { return Patch{}, errNotImplemented }

// DecodeJobs decodes a JSON array of job documents (jobs import).
func DecodeJobs(data []byte, mode DecodeMode) ([]Patch, error) { return nil, errNotImplemented }

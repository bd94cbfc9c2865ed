package mqtt_test

import (
	"fmt"

	"github.com/edgecron/edgecron/mqtt"
)

func ExampleDecodeRequest() {
	req, err := mqtt.DecodeRequest([]byte(`{"id":"r1","op":"pause","job_id":"pump-morning","expected_version":3}`))
	fmt.Println(req.ID, req.Op, req.JobID, req.ExpectedVersion, err)

	// A bad request keeps its id so that the agent can reply naming the field.
	req, err = mqtt.DecodeRequest([]byte(`{"id":"r2","op":"pause","job_id":"pump-morning","colour":"red"}`))
	fmt.Println(req.ID, err)
	// Output:
	// r1 pause pump-morning 3 <nil>
	// r2 colour: unknown field
}

func ExampleNewTopics() {
	t := mqtt.NewTopics("edgecron", "greenhouse-1")
	fmt.Println(t.Cmd())
	fmt.Println(t.Res())
	fmt.Println(t.GroupCmd("greenhouses"))
	fmt.Println(t.Job("pump-morning"))
	// Output:
	// edgecron/greenhouse-1/jobs/cmd
	// edgecron/greenhouse-1/jobs/res
	// edgecron/groups/greenhouses/jobs/cmd
	// edgecron/greenhouse-1/jobs/pump-morning
}

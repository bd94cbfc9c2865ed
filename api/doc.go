// Package api is the request pipeline every remote transport shares: MQTT
// requests (<root>/jobs/cmd, actuator set commands) and the HTTP REST API
// answer through it, so that both validate, version and commit a change
// the same way, with the same error codes, and a request id is answered
// once whichever way it comes.
//
// Reading order: request.go (the request and reply documents and their
// strict decoder), service.go (Service: a request with a requester's id
// answered from the replay cache, from the durable receipt, or by the
// scheduler with the id committed with the change), actuate.go (actuator
// commands, their id committed before they are applied), replay.go (the
// bounded in-memory replay cache). api/apitest holds the request tables
// every transport runs.
//
// Transport concerns stay with the transports: topics, the connection
// barrier and held replies in mqtt; methods, paths, headers and statuses in
// httpapi.
package api

package chaosmesh

// The schemas of the create parameters are converted from Chaos Mesh's CRDs.
//go:generate go run ./internal/gen -out schemas

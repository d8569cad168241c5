package e2e

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
)

func durationOf(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func itoa(i int) string { return strconv.Itoa(i) }

package chaosmesh

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// nameLetters are the letters of generated names, the alphabet that
// k8s.io/apimachinery's util/rand uses for generateName suffixes. It has
// no vowels, so that no word is spelled.
const nameLetters = "bcdfghjklmnpqrstvwxz2456789"

// manifestHashLength is the length of the suffix of manifestName. It
// differs from the 5 letters of generateName, so that the two kinds of
// names are easy to distinguish.
const manifestHashLength = 10

// generateName returns a name such as "mockforged-podchaos-x7k2p".
func generateName(k kindInfo) string {
	b := make([]byte, 5)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(nameLetters))))
		if err != nil {
			panic(fmt.Sprintf("chaosmesh: read random bytes: %v", err))
		}
		b[i] = nameLetters[n.Int64()]
	}
	return "mockforged-" + strings.ToLower(k.kind) + "-" + string(b)
}

// manifestName returns a name such as "mockforged-podchaos-7xq2kbd9zm"
// for an object that has none, derived from a SHA-256 hash of the rest of
// the object: its namespace, labels and spec after Chaos Mesh's defaults.
// A dry run uses it, so that applying the same output twice with kubectl
// apply updates one experiment instead of creating two.
func manifestName(k kindInfo, obj *unstructured.Unstructured) (string, error) {
	// encoding/json writes map keys sorted, so equal objects hash equally.
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return "", fmt.Errorf("encode %s for its name: %w", k.kind, err)
	}
	sum := sha256.Sum256(data)
	b := make([]byte, manifestHashLength)
	for i := range b {
		b[i] = nameLetters[int(sum[i])%len(nameLetters)]
	}
	return "mockforged-" + strings.ToLower(k.kind) + "-" + string(b), nil
}

package scenario

import (
	"fmt"
	"regexp"
)

// MaxNameBytes is the longest scenario name.
const MaxNameBytes = 63

// namePattern is the schema's pattern of the name field.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// CheckName returns an error unless name is a valid scenario name: 1 to 63
// lowercase letters, digits, '.', '_' and '-', starting with a letter or
// digit, as the schema requires of the name field. Names are keys in the
// tenant store, never file paths, but the check also keeps '/', "..", NUL
// and other bytes out of the API's requests, so a name read back always
// matches a file that could be stored.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("scenario name is empty; give the name from the scenario file's name field")
	case len(name) > MaxNameBytes:
		return fmt.Errorf("invalid scenario name %.40q...: it has %d bytes, and the limit is %d", name, len(name), MaxNameBytes)
	case !namePattern.MatchString(name):
		return fmt.Errorf("invalid scenario name %q: use 1 to %d lowercase letters, digits, '.', '_' and '-', starting with a letter or digit", name, MaxNameBytes)
	}
	return nil
}

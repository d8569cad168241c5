package scenario

import "strings"

// Validator checks a parsed scenario against rules that depend on where it
// is stored or run, such as the daemon's probe allow-list or the tenant's
// max duration. It returns one FieldError per invalid field with Path set.
// Parse fills in the Line of each from its Path.
type Validator func(*Scenario) []FieldError

// validate runs validators on s and fills in the line of each error.
func (s *Scenario) validate(lines lineIndex, validators []Validator) []FieldError {
	var out []FieldError
	for _, validate := range validators {
		for _, f := range validate(s) {
			if f.Line == 0 {
				f.Line = lines.line(splitPointer(f.Path))
			}
			out = append(out, f)
		}
	}
	return out
}

// splitPointer returns the reference tokens of a JSON pointer, as the
// inverse of pointer.
func splitPointer(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	tokens := strings.Split(p, "/")
	for i, token := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
	}
	return tokens
}

package api

import "strconv"

func itoa(i int) string { return strconv.Itoa(i) }

// strconvFloat renders a float the way DynamoDB renders capacity units and
// timestamps: shortest exact decimal, with ".0" for whole numbers.
func strconvFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s
		}
	}
	return s + ".0"
}

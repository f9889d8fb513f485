package sim

// The simulator refuses a SNILS or INN whose check digits are wrong, as the
// real registries do, so that the dataset and the queries it answers look
// like real ones. gosid validates the same digits when a citizen types them
// (package account); these copies keep the simulator free of gosid's domain.

// validSNILS reports whether s is 11 digits whose last two are the check
// number of the first nine: the sum of the digits weighted 9 down to 1,
// kept when under 100, 00 when 100 or 101, otherwise taken modulo 101
// (with 100 again written 00).
func validSNILS(s string) bool {
	if !allDigits(s, 11) {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(s[i]-'0') * (9 - i)
	}
	if sum > 101 {
		sum %= 101
	}
	if sum == 100 || sum == 101 {
		sum = 0
	}
	return sum == int(s[9]-'0')*10+int(s[10]-'0')
}

// validINN reports whether s is a personal (12-digit) INN with both check
// digits right.
func validINN(s string) bool {
	if !allDigits(s, 12) {
		return false
	}
	w11 := []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	w12 := []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	return innDigit(s, w11) == int(s[10]-'0') && innDigit(s, w12) == int(s[11]-'0')
}

func innDigit(s string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return sum % 11 % 10
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

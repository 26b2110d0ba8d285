"""Auth's rules: sign-in challenges, device sessions, administrator accounts."""

// STUB: replaced by the real load generator.
int main() { return 1; }

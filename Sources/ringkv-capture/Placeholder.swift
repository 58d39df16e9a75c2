// Placeholder until the capture tool lands; delete when adding the real @main.
@main struct CapturePlaceholder { static func main() {} }

import XCTest
final class PlaceholderPacketCaptureTests: XCTestCase {}

import XCTest
final class PlaceholderRESPTests: XCTestCase {}

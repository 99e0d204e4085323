# frozen_string_literal: true

# Written by hand for this test: `spec` receiver, Gem::Version.new, a multi-line licenses
# array, a decoy assignment inside a string, and a comment after the value.
Gem::Specification.new do |spec|
  spec.name          = 'vigil-fixture' # the gem
  spec.version       = Gem::Version.new("2.0.1")
  spec.summary       = "spec.version = \"9.9.9\" inside a string is not an assignment"
  other.version      = "0.0.1"
  spec.licenses      = [
    'Apache-2.0',
    %q(MIT)
  ]
end

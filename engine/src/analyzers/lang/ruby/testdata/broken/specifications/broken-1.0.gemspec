# -*- encoding: utf-8 -*-
# Written by hand for this test: neither a literal name nor a stub line.
Gem::Specification.new do |s|
  s.name = NAME
  s.version = "1.0"
end

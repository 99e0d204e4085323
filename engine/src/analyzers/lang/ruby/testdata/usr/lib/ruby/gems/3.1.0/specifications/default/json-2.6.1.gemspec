# -*- encoding: utf-8 -*-
# stub: json 2.6.1 ruby lib
# stub: ext/json/ext/generator/extconf.rb ext/json/ext/parser/extconf.rb

# The version is not a literal here (written by hand for this test): the stub line supplies it.
Gem::Specification.new do |s|
  s.name = "json".freeze
  s.version = JSON::VERSION
  s.license = "Ruby".freeze
  s.summary = "JSON Implementation for Ruby".freeze
end

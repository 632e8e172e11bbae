loop { puts "y" }

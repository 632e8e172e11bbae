program partial
  print '(a)', 'partial'
  call exit(3)
end program partial

program flood
  do
    print '(a)', 'y'
  end do
end program flood

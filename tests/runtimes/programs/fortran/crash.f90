program crash
  call abort()
end program crash

! Touches 600 MiB, one MiB at a time.
program memory
  implicit none
  type block
    integer(1), allocatable :: bytes(:)
  end type block
  type(block) :: blocks(600)
  integer :: i
  do i = 1, 600
    allocate (blocks(i)%bytes(1048576))
    blocks(i)%bytes = int(mod(i, 100), 1)
  end do
  print '(a)', 'survived'
end program memory
